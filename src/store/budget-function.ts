// The PostgreSQL function behind the shared API budgets (net/shared-limiter.ts), created by migration 0008.
/**
 * One place in a shared API budget (net/shared-limiter.ts), in one round trip: lock the budget's row, then
 * on the database's clock forget the calls out of the window, count the rest, and take a place if there is
 * one. Each statement of a function sees what committed before it, so the count is taken under the lock.
 * A call counts until `answered_at + window`; an unanswered one until `started_at + hold + window`.
 */
export const TAKE_CALL_FUNCTION = `
create function relay_take_call(p_budget text, p_holder text, p_max integer, p_window bigint, p_hold bigint, p_max_in_flight integer)
returns table (call_id bigint, now_ms bigint, paused_until bigint, n bigint, in_flight bigint, oldest_answer bigint, oldest_start bigint)
language plpgsql as $$
declare
  v_now bigint;
  v_paused bigint;
begin
  select b.paused_until into v_paused from rate_budgets b where b.name = p_budget for update;
  if not found then raise exception 'no shared budget %', p_budget; end if;
  v_now := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  if v_now < v_paused then
    return query select null::bigint, v_now, v_paused, 0::bigint, 0::bigint, null::bigint, null::bigint;
    return;
  end if;
  delete from rate_calls c where c.budget = p_budget and coalesce(c.answered_at, c.started_at + p_hold) <= v_now - p_window;
  select count(*), count(*) filter (where c.answered_at is null and c.started_at + p_hold > v_now), min(c.answered_at), min(c.started_at) filter (where c.answered_at is null)
    into n, in_flight, oldest_answer, oldest_start
    from rate_calls c where c.budget = p_budget;
  call_id := null;
  if n < p_max and in_flight < p_max_in_flight then
    insert into rate_calls (budget, holder, started_at, answered_at) values (p_budget, p_holder, v_now, null) returning id into call_id;
  end if;
  now_ms := v_now;
  paused_until := v_paused;
  return next;
end
$$`;

// A realistic Kommo `leads[status]` webhook body: one deal entering the invoicing stage, with the custom
// fields a sales team typically keeps on a deal (about ten, of the usual types) and a Cyrillic name.
// Every call gives a different lead id and last_modified, so the relay stores each one instead of
// dropping it as a duplicate delivery.
import { encodeForm, type Pair } from '../sandbox/kommo/webhook-encode.js';

export interface WebhookTarget {
  accountId: number;
  subdomain: string;
  pipelineId: number;
  /** The stage that triggers an invoice. */
  invoiceStatusId: number;
  /** The stage the deal comes from. */
  fromStatusId: number;
}

const FIRST_LEAD_ID = 31_700_000;
const BASE_TIME = 1_764_000_000;

/** Returns a body factory: the n-th call describes lead FIRST_LEAD_ID + n, modified at BASE_TIME + n. */
export function webhookBodies(t: WebhookTarget): () => Buffer {
  let n = 0;
  return () => Buffer.from(encodeForm(statusWebhook(t, FIRST_LEAD_ID + n, BASE_TIME + n++)));
}

function statusWebhook(t: WebhookTarget, leadId: number, modified: number): Pair[] {
  const p = 'leads[status][0]';
  const fields: Array<[id: number, name: string, values: Pair[]]> = [
    [702101, 'Тип услуги', [['[0][value]', 'Аудит сайта + SEO'], ['[0][enum]', '512301']]],
    [702103, 'Источник', [['[0][value]', 'Рекомендация партнёра'], ['[0][enum]', '512311']]],
    [702105, 'Дата начала работ', [['[0]', String(modified + 86_400)]]],
    [702107, 'Срок оплаты, дней', [['[0][value]', '14']]],
    [702109, 'Скидка, %', [['[0][value]', '7.5']]],
    [702111, 'Комментарий менеджера', [['[0][value]', 'Клиент просит счёт в евро; договор № 2025/117 от 12.11.2025, оплата двумя частями.']]],
    [702113, 'Сайт клиента', [['[0][value]', 'https://пример-клиента.рф/каталог?utm_source=kommo']]],
    [702115, 'НДС включён', [['[0][value]', '1']]],
    [702117, 'utm_source', [['[0][value]', 'google']]],
    [702119, 'Каналы', [['[0][value]', 'Email'], ['[0][enum]', '512321'], ['[1][value]', 'Telegram'], ['[1][enum]', '512323']]],
  ];
  const pairs: Pair[] = [
    [`${p}[id]`, String(leadId)],
    [`${p}[name]`, `Редизайн сайта ООО «Ромашка» №${leadId}`],
    [`${p}[status_id]`, String(t.invoiceStatusId)],
    [`${p}[old_status_id]`, String(t.fromStatusId)],
    [`${p}[price]`, '4800'],
    [`${p}[responsible_user_id]`, '9051221'],
    [`${p}[last_modified]`, String(modified)],
    [`${p}[modified_user_id]`, '9051221'],
    [`${p}[created_user_id]`, '9051221'],
    [`${p}[date_create]`, String(modified - 7 * 86_400)],
    [`${p}[pipeline_id]`, String(t.pipelineId)],
    [`${p}[old_pipeline_id]`, String(t.pipelineId)],
    [`${p}[account_id]`, String(t.accountId)],
    [`${p}[tags][0][id]`, '48211'],
    [`${p}[tags][0][name]`, 'VIP-клиент'],
  ];
  fields.forEach(([id, name, values], i) => {
    const c = `${p}[custom_fields][${i}]`;
    pairs.push([`${c}[id]`, String(id)], [`${c}[name]`, name], ...values.map(([k, v]): Pair => [`${c}[values]${k}`, v]));
  });
  pairs.push(['account[subdomain]', t.subdomain], ['account[id]', String(t.accountId)]);
  return pairs;
}

// Texts made from a deal's ID ("KOMMO-{deal_id}", "INV-{deal_id}", "Kommo deal {deal_id}") and read back.
// Shared by the invoice number rule and by backends that stamp the deal into a reference.

/** The template with the deal's ID; a deal invoiced again (generation 2, 3, …) gets "-2", "-3". */
export function fillDealTemplate(template: string, dealId: number, generation = 1): string {
  const base = template.replaceAll('{deal_id}', String(dealId));
  return generation > 1 ? `${base}-${generation}` : base;
}

/** The deal ID a text made from `template` holds (any generation), or undefined. Linear: no backtracking. */
export function dealIdFromTemplate(text: string, template: string): number | undefined {
  const [before, after] = template.split('{deal_id}') as [string, string];
  const value = text.trim();
  if (!value.startsWith(before)) return undefined;
  let rest = value.slice(before.length);
  let end = 0;
  while (end < rest.length && end < 20 && rest.charCodeAt(end) >= 48 && rest.charCodeAt(end) <= 57) end++;
  if (end === 0) return undefined;
  const digits = rest.slice(0, end);
  rest = rest.slice(end);
  if (!rest.startsWith(after)) return undefined;
  rest = rest.slice(after.length);
  if (rest !== '' && !/^-\d{1,9}$/.test(rest)) return undefined;
  return Number(digits);
}

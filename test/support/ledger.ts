/** The ledger of a chaos run in which every deal was acknowledged and invoiced exactly once, nothing lost. */
export function exactlyOnce(deals: number) {
  return {
    deals,
    acknowledged: deals,
    invoicedOnce: deals,
    duplicateInvoices: 0,
    duplicateCustomers: 0,
    duplicateEmails: 0,
    lost: 0,
    neverAcknowledged: 0,
    oasViolations: 0,
  };
}

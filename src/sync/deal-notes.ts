// Adds a note to a deal exactly once per key: the intent is recorded before the POST, and after an
// uncertain answer the deal's notes are read back before trying again. A note Kommo refuses is recorded
// 'refused' with Kommo's reason; callers with other writes to make carry on (see deal-writer.ts).
import { RelayError } from '../errors.js';
import type { DealNotes } from '../store/payment-records.js';
import type { CrmPort } from './ports.js';

export class NoteOnce {
  constructor(
    private readonly crm: CrmPort,
    private readonly notes: DealNotes,
  ) {}

  /** True if this call added the note, false if it had been added before. */
  async add(dealId: number, key: string, text: string): Promise<boolean> {
    const existing = await this.notes.get(key);
    if (existing?.state === 'sent') return false;
    if (existing?.state === 'sending') {
      const texts = await this.crm.dealNoteTexts(dealId);
      if (texts.includes(existing.text)) {
        await this.notes.markSent(key);
        return false;
      }
    }
    await this.notes.markSending(key, String(dealId), text);
    try {
      await this.crm.addDealNote(dealId, text);
    } catch (err) {
      // Kommo refusing the note is kept with its reason (and tried again next run); any other failure we
      // are sure of leaves nothing to check next time.
      if (err instanceof RelayError && !err.retryable && !err.uncertain) await this.notes.markRefused(key, err.message);
      else if (!(err instanceof RelayError && err.uncertain)) await this.notes.forget(key);
      throw err;
    }
    await this.notes.markSent(key);
    return true;
  }
}

// The one error type of webhook body parsing: the form decoder's and Kommo's item checks alike, each with a
// code the intake answers with and a message that names the field at fault, quoting as little of the
// sender's text as it can (values may hold personal data).

export type WebhookParseErrorCode = 'malformed_body' | 'too_many_fields' | 'too_deep' | 'invalid_item';

export class WebhookParseError extends Error {
  readonly code: WebhookParseErrorCode;

  constructor(code: WebhookParseErrorCode, message: string) {
    super(message);
    this.name = 'WebhookParseError';
    this.code = code;
  }
}

/** Longest piece of user input quoted in an error message. */
const QUOTE_MAX = 120;

export function quote(text: string): string {
  const shown = text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text;
  return JSON.stringify(shown);
}

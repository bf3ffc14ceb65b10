/**
 * Why a movement failed or was cancelled, in a sentence the assistant can read to the
 * customer. The store keeps the internal reason (failure_reason, what the code and the
 * operator see); the customer hears one of these, never an internal detail.
 */
const SENTENCES: Record<string, string> = {
  'the bank declined the transfer': 'The bank declined the transfer',
  'the bank refused the sign-in': 'The bank refused the sign-in for this transfer',
  'sign-in ended before the movement was sent': 'The sign-in ended before the transfer could be sent',
  'source account not found at the bank': 'The bank no longer lists the account to pay from',
  'the bank never received the transfer': 'The bank never received the transfer',
  'interrupted and never retried': 'The transfer was interrupted and not retried',
  'one-time password expired': 'The one-time password expired',
  'one-time password never given': 'The one-time password was never given',
  'too many one-time password failures': 'Too many wrong one-time passwords were given',
  'the bank failed the verification': 'The bank did not accept the one-time password',
};

export function customerReason(failureReason: string | null, status: 'failed' | 'cancelled'): string {
  const known = failureReason === null ? undefined : SENTENCES[failureReason];
  if (known) return known;
  // a reason written since this table (or none): still a true sentence, never the internal text
  return status === 'failed' ? 'The bank did not complete the transfer' : 'The transfer was cancelled';
}

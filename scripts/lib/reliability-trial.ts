/** What the reliability suites write and `npm run report:reliability` reads. */
/** One thing a suite tried: a fault or a kill, what the connector answered, how fast, and the outcome. */
export interface Trial {
  /** e.g. "createTransfer: slow (3 × timeout)" or "SIGKILL after session" */
  name: string;
  /** fault | lost-reply | circuit | kill | scale-out | reconcile */
  kind: string;
  /** The fault, e.g. "500" or "dropped connection". */
  fault?: string;
  /** The Verify operation the fault hit, when one did. */
  operation?: string;
  /** The Kasisto call that met it. */
  call?: string;
  /** The answer while Verify misbehaved (or after the kill), e.g. 504. */
  status?: number | string;
  elapsedMs?: number;
  /** HTTP attempts the faulted Verify operation received. */
  attempts?: number;
  /** The bound asserted on elapsedMs. */
  boundMs?: number;
  /** What held afterwards, in a few words (e.g. "retry 200 processed, debited once"). */
  outcome: string;
}

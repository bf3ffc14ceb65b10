import type { SandboxState } from '../state.js';
import type { OperationHandler, OperationId } from '../types.js';

/** What every sandbox handler may use. */
export interface HandlerContext {
  state: SandboxState;
}

/** Builds the handler of one operation for one sandbox instance. */
export type HandlerFactory<K extends OperationId> = (ctx: HandlerContext) => OperationHandler<K>;

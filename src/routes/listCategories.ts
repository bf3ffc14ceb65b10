import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /categories: the operator's taxonomy, which every ledger entry is tagged with. */
export const listCategories: HandlerFactory<'listCategories'> = (ctx) => async (request) => {
  return ctx.directory.categories;
};

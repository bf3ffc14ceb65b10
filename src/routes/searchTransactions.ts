import { findTransactions, transactionSearch } from '../domain/ledger.js';
import { requireSignedIn } from '../domain/sessions.js';
import { callerOf } from './caller.js';
import { PageCache } from './page-cache.js';
import { render200, sendRendered } from './rendered.js';
import type { HandlerFactory } from './types.js';

/**
 * POST /transactions: the connector's ledger, newest first.
 *
 * The serialised answer is kept per (user, criteria) with the user's ledger version, which
 * the database changes in the same transaction as any write to the user's movements, by any
 * instance: an answer is reused only while nothing it was made from has changed, however
 * old. It is made by the route's schema-compiled serializer (see rendered.ts).
 * Repeated identical questions (a customer asking again, the platform retrying) cost a
 * version lookup instead of reading and rendering the rows.
 */
export const searchTransactions: HandlerFactory<'searchTransactions'> = (ctx) => {
  const pages = new PageCache();
  return async (request, reply) => {
    const caller = callerOf(request);
    requireSignedIn(caller);
    const search = transactionSearch(caller.grant.user_id, request.body ?? {});
    // the version first, then the rows: a page is never kept under a version newer than its data
    const version = await ctx.store.ledgerVersion(caller.grant.user_id);
    let page = pages.get(search.key, version);
    if (page === undefined) {
      page = render200(reply, await findTransactions(ctx, search));
      pages.set(search.key, version, page);
    }
    return sendRendered(reply, page);
  };
};

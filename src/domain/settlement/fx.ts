/** The exchange-rate table a domain context uses: its own, or the development pegs. */
import type { DomainContext } from '../context.js';
import { DEFAULT_FX_RATES_FILE, FxRates } from './fx-rates.js';

let developmentPegs: FxRates | undefined;

export function fxRatesOf(ctx: Pick<DomainContext, 'fx'>): FxRates {
  if (ctx.fx) return ctx.fx;
  developmentPegs ??= FxRates.fromFile(DEFAULT_FX_RATES_FILE);
  return developmentPegs;
}

/** Handler types derived from the generated Kasisto contract: a spec change that breaks a handler breaks tsc. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { operations } from '../../generated/kasisto/1.0.js';
import type { DomainContext } from '../domain/context.js';

export type OperationId = keyof operations;
export type RequestBody<Op extends OperationId> = NonNullable<operations[Op]['requestBody']>['content']['application/json'];
export type OkBody<Op extends OperationId> = operations[Op]['responses'][200]['content']['application/json'];

export type Handler<Op extends OperationId> = (
  request: FastifyRequest<{ Body: RequestBody<Op> | undefined }>,
  reply: FastifyReply,
) => Promise<OkBody<Op>>;

export type HandlerFactory<Op extends OperationId> = (ctx: DomainContext) => Handler<Op>;

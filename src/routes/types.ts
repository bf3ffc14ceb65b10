/**
 * Handler types derived from the generated Kasisto contracts: a spec change that breaks a
 * handler breaks tsc. Every revision has its own `operations`; `HandlersOf<Ops>` asks for
 * one handler per operationId of that revision, typed by its request and 200 bodies.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { operations } from '../../generated/kasisto/1.0.js';
import type { operations as operations10Final } from '../../generated/kasisto/1.0-final.js';
import type { operations as operations12 } from '../../generated/kasisto/1.2.js';
import type { operations as operations13 } from '../../generated/kasisto/1.3.js';
import type { KasistoRevision } from '../config.js';
import type { DomainContext } from '../domain/context.js';

/** Each revision's generated `operations`. */
export interface RevisionOperations {
  '1.0': operations;
  '1.0-final': operations10Final;
  '1.2': operations12;
  '1.3': operations13;
}
export type OperationsOf<R extends KasistoRevision> = RevisionOperations[R];

/** The JSON request body of a generated operation. */
export type BodyOf<O> = O extends { requestBody?: infer B } ? (NonNullable<B> extends { content: { 'application/json': infer J } } ? J : never) : never;
/** The JSON 200 body of a generated operation. */
export type OkOf<O> = O extends { responses: { 200: { content: { 'application/json': infer J } } } } ? J : never;

export type OperationHandler<O> = (request: FastifyRequest<{ Body: BodyOf<O> | undefined }>, reply: FastifyReply) => Promise<OkOf<O>>;

/** One handler per operationId of a revision: a missing one is a compile error. */
export type HandlersOf<Ops> = { [Id in keyof Ops]: OperationHandler<Ops[Id]> };

/** Revision 1.0 (the thin handlers of src/routes/*.ts). */
export type OperationId = keyof operations;
export type RequestBody<Op extends OperationId> = BodyOf<operations[Op]>;
export type OkBody<Op extends OperationId> = OkOf<operations[Op]>;
export type Handler<Op extends OperationId> = OperationHandler<operations[Op]>;
export type HandlerFactory<Op extends OperationId> = (ctx: DomainContext) => Handler<Op>;

/** A handler of another revision's operation. */
export type RevisionHandlerFactory<R extends KasistoRevision, Op extends keyof OperationsOf<R>> = (ctx: DomainContext) => OperationHandler<OperationsOf<R>[Op]>;

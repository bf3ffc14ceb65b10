/**
 * Types of the Verify sandbox, all derived from the generated contract types
 * (generated/verify.ts, made by openapi-typescript from spec/verify.yaml). Nothing here
 * restates a shape the generator already gives: a spec change that breaks a handler
 * breaks `tsc`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { components, operations } from '../../generated/verify.js';

export type Schemas = components['schemas'];
export type Bank = Schemas['bank'];
export type Session = Schemas['session'];
export type BankAccount = Schemas['bank_account'];
export type Transfer = Schemas['transfer'];
export type Verification = Schemas['verification'];
export type ErrorBody = Schemas['error'];

export type SessionStatus = Session['status'];
export type TransferStatus = Transfer['status'];
export type VerificationStatus = Verification['status'];
export type VerificationType = Verification['type'];

/** Every operationId of spec/verify.yaml. */
export type OperationId = keyof operations;

/** The JSON request body of an operation (the form body has the same schema). */
export type RequestBody<K extends OperationId> = operations[K] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : undefined;

/** The path parameters of an operation. */
export type PathParams<K extends OperationId> = operations[K]['parameters'] extends { path: infer P } ? P : Record<string, never>;

/** The 200 body of an operation. */
export type OkBody<K extends OperationId> = operations[K]['responses'] extends {
  200: { content: { 'application/json': infer R } };
}
  ? R
  : never;

export type OperationRequest<K extends OperationId> = FastifyRequest<{ Body: RequestBody<K>; Params: PathParams<K> }>;

/** A service handler as fastify-openapi-glue calls it, typed from the contract. */
export type OperationHandler<K extends OperationId> = (request: OperationRequest<K>, reply: FastifyReply) => Promise<OkBody<K>>;

/** One handler per operationId: a missing operation is a compile-time error. */
export type ServiceHandlers = { [K in OperationId]: OperationHandler<K> };

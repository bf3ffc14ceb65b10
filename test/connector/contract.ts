// Moved to test/helpers/kasisto-contract.ts. Kept only while test/reliability/verify-faults.test.ts
// (being edited on another branch) still imports it from here: repoint that import, then delete this file.
export * from '../helpers/kasisto-contract.js';

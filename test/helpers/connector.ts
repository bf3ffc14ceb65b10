/** The tests' connector is the one scripts start in-process (one implementation for both). */
export * from '../../scripts/lib/local-connector.js';

/**
 * @saasready/client: the TypeScript client of the SaaSReady API. A small hand-written facade
 * (SaaSReady) over the client generated from openapi.json (./generated, openapi-typescript types for
 * openapi-fetch). Published on its own: it imports no other lib of this repository.
 */
export * from './client';
export * from './errors';
export * from './pagination';
export type { components, operations, paths } from './generated/openapi';

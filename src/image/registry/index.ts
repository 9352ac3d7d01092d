/**
 * The OCI distribution-spec client.
 *
 *   import { RegistryClient, resolveImage } from './image/registry/index.js';
 *   const client = new RegistryClient({
 *     registry: '127.0.0.1:5000',           // host[:port]; docker.io is served by registry-1.docker.io
 *     tlsVerify: false,                     // insecure: https without verification, then plain http
 *     credentials: (registry) => lookUp(registry),  // {username,password} | {identityToken} | undefined
 *     // certDirs, retry, tokenCache, proxy, idleTimeoutMs, maxResumeAttempts, onDebug
 *   });
 *   const img = await resolveImage(client, ref, { platform: { os: 'linux', architecture: 'arm64' } });
 *   const stream = await client.getBlob(ref.repository, img.manifest.layers[0].digest, { size: img.manifest.layers[0].size });
 *   client.close();
 *
 * Every failure is a RegistryError (a TspodError, exit code 125) with one clear sentence.
 * Blob streams verify size and digest at their end and error on a mismatch: consumers must
 * write to a temporary place and commit only when the stream ended without error.
 */
export { RegistryClient, createRegistryClient, MANIFEST_SIZE_LIMIT } from './client.js';
export { resolveImage, CONFIG_SIZE_LIMIT } from './resolve.js';
export type { ResolvedImage } from './resolve.js';
export { Transport, endpointHost } from './transport.js';
export type { RequestSpec } from './transport.js';
export * from './types.js';
export { RegistryError, mapRegistryError, mapNetworkError, parseErrorBody } from './errors.js';
export type { ErrorContext } from './errors.js';
export { parseWwwAuthenticate, findChallenge } from './www-authenticate.js';
export type { Challenge } from './www-authenticate.js';
export { TokenCache, defaultTokenCache, tokenCacheKey, tokenExpiry } from './token-cache.js';
export { DEFAULT_RETRY_POLICY, backoffDelay, isRetryableStatus, isRetryableNetworkError } from './retry.js';
export type { RetryPolicy } from './retry.js';
export { defaultCertDirs, loadTlsMaterial } from './tls.js';
export { newDigester, digestBytes, parseDigest } from './digest.js';
export type { StreamDigester } from './digest.js';
export { proxyFromEnvironment, noProxyMatches, parseProxyUrl } from './proxy.js';

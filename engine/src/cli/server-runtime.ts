// What the server commands need at run time, behind one dynamic import: Fastify,
// node-forge, undici, prom-client and typebox then load only for `serve`, `pair`, `user`,
// `kek` and `validate`, not for every `keepsake encrypt` or `job submit`.

export { databasePath, openDatabase } from '../jobs/db';
export { CredentialStore } from '../net/credentials';
export { generateKekFile, loadKek, parseKek } from '../net/kek';
export { parseRole } from '../net/roles';
export { createPairingCode } from '../net/pairing';
export { startServe } from '../serve/serve';
export { isRoutesFile, readRoutesFile } from '../proxy/routes-config';
export { startProxyServer } from '../proxy/proxy-server';
export { parseUpstreamProxy } from '../proxy/upstream-proxy';
export { reloadOnSignal } from '../proxy/routes-holder';
export { readServeConfig, redisSettings, type ServeConfig } from '../http/serve-config';
export { describeRedis, pingRedis } from '../jobs/redis-connection';
export { ensureServerTls } from '../net/server-ca';
export { fingerprintOf } from '../net/fingerprint';
export { TLS_FILE_NAMES } from '../net/tls-keys';

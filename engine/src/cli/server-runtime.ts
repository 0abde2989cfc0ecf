// What the server commands need at run time, behind one dynamic import: Fastify,
// node-forge, undici, prom-client and typebox then load only for `serve`, `pair`, `user`,
// `kek` and `validate`, not for every `keepsake encrypt` or `job submit`.

export { databasePath, openDatabase } from '../jobs/db';
export { redact } from '../server/audit';
export { CredentialStore } from '../server/auth/credentials';
export { generateKekFile, loadKek, parseKek } from '../server/auth/kek';
export { parseRole } from '../server/auth/roles';
export { createPairingCode } from '../server/pairing';
export { startServe } from '../server/serve';
export { isRoutesFile, readRoutesFile } from '../proxy/routes-config';
export { startProxyServer } from '../proxy/proxy-server';
export { reloadOnSignal } from '../proxy/routes-holder';
export { readServeConfig, type ServeConfig } from '../server/serve-config';
export { TLS_FILE_NAMES, ensureServerTls, fingerprintOf } from '../server/tls';

// Paths used by tests. The public vectors are copied into the repository (Apache-2.0,
// from C2SP/wycheproof) so that a clean clone tests without anything beside it.
import { fileURLToPath } from 'node:url';

export const engineRoot = fileURLToPath(new URL('../../', import.meta.url));
export const vectorsDir = fileURLToPath(new URL('../../fixtures/vectors/', import.meta.url));

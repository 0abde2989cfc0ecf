// Remote execution as the job engine takes it (JobEngineOptions.runRemote). The job engine
// sits below this layer and cannot import it; its callers pass this in. The server client
// (undici, node-forge) loads only when a job goes remote, so `job submit` stays quick.

import type { RemoteRunner } from '../jobs/job-engine';

export const runRemote: RemoteRunner = (job, env, control) =>
  import('./remote-execute').then(({ executeRemote }) => executeRemote(job, env, control));

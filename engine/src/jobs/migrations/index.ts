// Every migration of the engine database, in the order they apply.
//
// Migrations are append-only: a released one is never edited, since databases out there
// already ran it; a schema change is a new file `NNN-name.ts` (the next number, exporting
// `migration` with `version: NNN`) added at the end of this list. The test beside this
// file checks that each entry's version is its place here and that each upgrades a
// database holding data from the version before without losing it.

import type { Migration } from './migration';
import { migration as jobs } from './001-jobs';
import { migration as jobEvents } from './002-job-events';
import { migration as credentials } from './003-credentials';
import { migration as audit } from './004-audit';
import { migration as uploads } from './005-uploads';
import { migration as pairingCodes } from './006-pairing-codes';
import { migration as library } from './007-library';
import { migration as libraryArchive } from './008-library-archive';
import { migration as libraryInfo } from './009-library-info';
import { migration as libraryPreviews } from './010-library-previews';
import { migration as jobsByLibraryFile } from './011-jobs-by-library-file';
import { migration as libraryLabels } from './012-library-labels';
import { migration as tapeCutLists } from './013-tape-cut-lists';
import { migration as libraryWatched } from './014-library-watched';
import { migration as jobDeliveries } from './015-job-deliveries';
import { migration as tapeClips } from './016-tape-clips';
import { migration as tapeAnalyses } from './017-tape-analyses';
import { migration as libraryInfoDv } from './018-library-info-dv';

export type { Migration } from './migration';

export const MIGRATIONS: readonly Migration[] = [
  jobs,
  jobEvents,
  credentials,
  audit,
  uploads,
  pairingCodes,
  library,
  libraryArchive,
  libraryInfo,
  libraryPreviews,
  jobsByLibraryFile,
  libraryLabels,
  tapeCutLists,
  libraryWatched,
  jobDeliveries,
  tapeClips,
  tapeAnalyses,
  libraryInfoDv,
];

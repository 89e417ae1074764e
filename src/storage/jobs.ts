import { defaultJobs } from '../settings.js';

/** Objects transferred at once by default: 4 per core, at least 8 (the work is waiting on the network). */
export const defaultStorageJobs = (): number => Math.max(8, 4 * defaultJobs());

import type { StorageEvent } from '../../storage/storage-export.js';
import { formatBytes, formatCount } from '../format.js';
import type { ProgressDisplay } from '../progress.js';
import { interactive, plural, terminal } from '../terminal.js';

/**
 * Shows storage transfers: on a terminal, the status line counts objects and bytes; elsewhere a line every
 * five seconds; with --verbose a line per object. A failure is always a line of its own.
 */
export function storageProgress(display: ProgressDisplay, verb: string) {
  const tty = terminal.verbosity !== 'quiet' && interactive(process.stderr);
  let total = 0;
  let totalBytes = 0;
  let done = 0;
  let bytes = 0;
  let lastLine = performance.now();
  const status = () =>
    `${verb}: ${formatCount(done)} of ${formatCount(total)} objects, ${formatBytes(bytes)} of ${formatBytes(totalBytes)}`;
  return (event: StorageEvent): void => {
    switch (event.type) {
      case 'plan':
        total = event.objects;
        totalBytes = event.bytes;
        display.log(
          `${verb[0]!.toUpperCase()}${verb.slice(1)} ${plural(total, 'object')} (${formatBytes(totalBytes)})`,
        );
        display.phase(status());
        break;
      case 'object-done':
        done++;
        bytes += event.bytes;
        if (terminal.verbosity === 'verbose')
          display.log(
            `${event.kept ? '= kept' : '✓'} ${event.bucket}/${event.key} (${formatBytes(event.bytes)})`,
          );
        if (tty) display.phase(status(), false);
        else if (performance.now() - lastLine >= 5000) {
          lastLine = performance.now();
          display.log(status());
        }
        break;
      case 'object-failed':
        done++;
        display.log(`✗ ${event.error}`);
        break;
      case 'note':
        display.log(`note: ${event.message}`);
        break;
    }
  };
}

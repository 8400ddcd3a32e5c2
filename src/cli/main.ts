#!/usr/bin/env node
// The `uring` command: `uring doctor` inspects the machine, `uring bench`
// measures. Exit codes: 0 success, 1 failure (or io_uring unusable for
// doctor), 2 a usage error.
import { diagnose } from './doctor';
import { formatDoctor } from './doctor-text';
import { runBench, benchUsage, UsageError } from './bench';

const USAGE = `usage: uring <command> [options]

commands:
  doctor [--json]    what io_uring can do on this machine, or why it cannot be used
  bench [options]    measure reads and writes: node:fs/promises against io_uring
                     (\`uring bench --help\` lists the options)

options:
  -h, --help         this text
  -v, --version      the package version`;

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    console.log(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '-v' || cmd === '--version') {
    console.log((require('../../../package.json') as { version: string }).version);
    return 0;
  }
  try {
    if (cmd === 'doctor') {
      let json = false;
      for (const a of rest) {
        if (a === '--json') json = true;
        else if (a === '-h' || a === '--help') { console.log('usage: uring doctor [--json]'); return 0; } else throw new UsageError(`unknown option ${a}`);
      }
      const report = diagnose();
      console.log(json ? JSON.stringify(report, null, 2) : formatDoctor(report));
      return report.usable ? 0 : 1;
    }
    if (cmd === 'bench') {
      if (rest.includes('-h') || rest.includes('--help')) { console.log(benchUsage()); return 0; }
      return await runBench(rest);
    }
    throw new UsageError(`unknown command ${cmd}`);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`uring: ${err.message}\n(see \`uring ${cmd === 'bench' || cmd === 'doctor' ? `${cmd} ` : ''}--help\`)`);
      return 2;
    }
    console.error(`uring ${cmd}: ${(err as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

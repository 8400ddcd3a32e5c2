// `npm run bench -- <workload> [--json] [--rounds N] [--round-ms MS]`
import { main } from '../src/bench/cli';

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});

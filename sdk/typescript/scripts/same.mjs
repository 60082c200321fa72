// Fails when two files differ: the committed generated types against a fresh generation.
import { readFileSync } from "node:fs";

const [committed, fresh] = process.argv.slice(2);
if (readFileSync(committed, "utf8") !== readFileSync(fresh, "utf8")) {
  console.error(
    `${committed} is out of date with openapi.json: run \`npm run generate\` and commit it`,
  );
  process.exit(1);
}
console.log(`${committed} is up to date with openapi.json`);

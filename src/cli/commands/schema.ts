// `edn schema [--screening]`: prints the JSON Schema of protocol files (or of screening answers files)
// so editors can autocomplete and check ranges while people write them.
import { protocolJsonSchema, screeningJsonSchema } from '../../domain/index.js';
import { type Command, EXIT, UsageError, parse, write } from '../command.js';

export const schemaCommand: Command = {
  name: 'schema',
  usage: [
    'Usage: edn schema [--screening]',
    '',
    'Prints the JSON Schema (draft 2020-12) of the edn-protocol/1 file format. Save it and point',
    'a protocol file at it for autocompletion and range checks in an editor:',
    '  edn schema > edn-protocol.schema.json',
    '  { "$schema": "./edn-protocol.schema.json", "format": "edn-protocol/1", ... }',
    'The schema cannot express every rule (Shannon k, total duration, forbidden regions):',
    '`edn validate` is the authority.',
    '',
    '  --screening   print the schema of screening answers files instead',
  ].join('\n'),
  run(argv, io) {
    const { values, positionals } = parse(argv, { screening: { type: 'boolean', default: false } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const schema = values.screening ? screeningJsonSchema() : protocolJsonSchema();
    write(io.stdout, JSON.stringify(schema, null, 2));
    return Promise.resolve(EXIT.ok);
  },
};

// The command line of every suite: one parser, each suite declaring its options.

/**
 * Parses `argv` into a copy of `defaults`. `flags` maps each option to `[key, kind, ids?]`:
 *   'on' / 'off'   set opts[key] to true / false
 *   'text'         opts[key] = the value
 *   'positive'     a number > 0;  'count': an integer > 0
 *   'filters'      appends the lower-cased value to opts[key]
 *   'oneOf'        appends the value to opts[key] after checking it is one of `ids`
 * Values come as `--flag value` or `--flag=value`. `--help`/`-h` prints `usage` and exits 0; an
 * unknown option or a bad value prints the problem and `usage` to stderr and exits 2.
 */
export function parseArgs(argv, usage, flags, defaults) {
  const opts = structuredClone(defaults);
  const fail = (msg) => {
    process.stderr.write(`${msg}\n\n${usage}\n`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(usage + '\n');
      process.exit(0);
    }
    if (!Object.hasOwn(flags, flag)) fail(`unknown option ${arg}`);
    const [key, kind, ids] = flags[flag];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) fail(`${flag} needs a value`);
      return argv[++i];
    };
    const number = (test, what) => {
      const v = Number(value());
      if (!test(v)) fail(`${flag} needs a ${what}`);
      return v;
    };
    switch (kind) {
      case 'on': opts[key] = true; break;
      case 'off': opts[key] = false; break;
      case 'text': opts[key] = value(); break;
      case 'positive': opts[key] = number((v) => v > 0, 'positive number'); break;
      case 'count': opts[key] = number((v) => Number.isInteger(v) && v > 0, 'positive integer'); break;
      case 'filters': opts[key].push(value().toLowerCase()); break;
      case 'oneOf': {
        const v = value();
        if (!ids.includes(v)) fail(`${flag}: unknown value ${v} (one of ${ids.join(', ')})`);
        opts[key].push(v);
        break;
      }
      default: throw new Error(`parseArgs: unknown kind ${kind} for ${flag}`);
    }
  }
  return opts;
}

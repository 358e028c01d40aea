/**
 * node:util parseArgs for a command's flags, with its errors turned into one clear usage line that
 * names the flag and points at `mothership <command> --help`.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

import { ErrorCodes, MothershipError } from '../errors.js';

export function usageError(command: string, message: string): MothershipError {
  return new MothershipError(
    ErrorCodes.USAGE,
    `${message}\nRun 'mothership ${command} --help' for the options.`,
  );
}

export function parseCommandArgs<O extends Options>(
  command: string,
  args: string[],
  options: O,
): ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>
>['values'] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const e = err as Error & { code?: string };
    const flag = /'([^']+)'/.exec(e.message)?.[1] ?? '';
    switch (e.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw usageError(command, `unknown option '${flag}'`);
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw usageError(command, `unexpected argument '${flag}'`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        // a value that starts with '-' is read as a flag: say how to give it
        throw usageError(
          command,
          /ambiguous/.test(e.message)
            ? `${flag} needs a value (write ${flag}=VALUE for one starting with '-')`
            : `${args.at(-1)} needs a value`,
        );
      default:
        throw usageError(command, e.message);
    }
  }
}

/** An integer flag within [min, max]; undefined when not given. */
export function intFlag(
  command: string,
  flag: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < min || n > max)
    throw usageError(command, `${flag} needs a whole number ${min}..${max}, got '${value}'`);
  return n;
}

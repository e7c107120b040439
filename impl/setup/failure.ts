// A reason qmail-setup stops, with its exit code: 100 for a request it will never be able to do
// as given, 111 for a problem that may go away (a missing tool, a failing command).

export class SetupFailure extends Error {
  constructor(
    readonly code: 100 | 111,
    message: string,
  ) {
    super(message);
  }
}

export const permanent = (why: string): SetupFailure => new SetupFailure(100, why);
export const temporary = (why: string): SetupFailure => new SetupFailure(111, why);

// Argument checks shared by the statistics functions: they throw on input no answer fits, rather
// than hand back a number that means nothing.

export function checkCount(name: string, x: number): void {
  if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`${name} must be a non-negative integer, got ${x}`);
}

export function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be between 0 and 1 (exclusive), got ${confidence}`);
}

export function checkResamples(resamples: number): void {
  if (!Number.isSafeInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
}

export function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be between 0 and 1 (exclusive), got ${alpha}`);
}

/** `values` copied into a Float64Array; throws on a value that is not a finite number. */
export function finiteValues(name: string, values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new RangeError(`${name}[${i}] is not a finite number: ${values[i]}`);
  }
  return out;
}

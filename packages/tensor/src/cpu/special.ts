/**
 * Special functions in float64: erf, erfc and erfinv, accurate to a few ulps.
 *
 * erf uses its Maclaurin series for |x| < 2 and the continued fraction of erfc beyond (Lentz's
 * method); erfinv starts from Winitzki's closed-form approximation and polishes it with Halley
 * steps on erf (or erfc in the tails, where 1 − y is exact).
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const EPS = 1e-17;

/** erf(x) = 2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n+1)), for |x| < 2. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 100; n++) {
    term *= -x2 / n;
    const d = term / (2 * n + 1);
    sum += d;
    if (Math.abs(d) < Math.abs(sum) * EPS) break;
  }
  return sum * TWO_OVER_SQRT_PI;
}

/**
 * erfc(x) for x ≥ 2 by the continued fraction
 * erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))).
 */
function erfcFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/** The complementary error function 1 − erf(x), accurate in the tails. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 2) return x > -2 ? 1 - erfSeries(x) : 2 - erfc(-x);
  if (x > 27) return 0;
  return erfcFraction(x);
}

/** The error function. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a < 2) return erfSeries(x);
  if (a > 6) return Math.sign(x);
  const r = 1 - erfcFraction(a);
  return x < 0 ? -r : r;
}

/** The inverse error function on [−1, 1]; ±1 → ±∞, outside → NaN. */
export function erfinv(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN;
  if (y === 1) return Infinity;
  if (y === -1) return -Infinity;
  if (y === 0) return y;
  const sign = y < 0 ? -1 : 1;
  const ay = Math.abs(y);
  // Winitzki: erfinv(y) ≈ sqrt(sqrt(t² − ln(1−y²)/a) − t), t = 2/(πa) + ln(1−y²)/2, a = 0.147
  const a = 0.147;
  const ln = Math.log((1 - ay) * (1 + ay));
  const t = 2 / (Math.PI * a) + ln / 2;
  let x = Math.sqrt(Math.sqrt(t * t - ln / a) - t);
  const tail = ay > 0.5;
  const q = 1 - ay; // exact for ay > 0.5
  for (let i = 0; i < 4; i++) {
    const f = tail ? q - erfc(x) : erf(x) - ay; // both equal erf(x) − y
    const fp = TWO_OVER_SQRT_PI * Math.exp(-x * x);
    if (fp === 0) break;
    const u = f / fp;
    const step = u / (1 + x * u); // Halley's correction for f'' = −2x f'
    x -= step;
    if (Math.abs(step) <= Math.abs(x) * 1e-16) break;
  }
  return sign * x;
}

/** WGSL helper functions for float32 math that WGSL lacks (or leaves undefined at edge cases). */
export const MATH_WGSL = /* wgsl */ `
// NaN and ±∞ cannot be written as constants in WGSL: they come from private variables at run time
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn nan_() -> f32 { return bitcast<f32>(NAN_BITS); }
fn inf_() -> f32 { return bitcast<f32>(INF_BITS); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// exp, log, sin and cos are computed here rather than by the WGSL builtins, whose precision the
// spec leaves loose (software drivers are off by dozens of ulps for exp/log, 2e-5 for sin/cos near
// 1, and give finite values for log(0) and log(x < 0)): Cephes' float32 reductions and polynomials
// (about 1 ulp; sin/cos are within 1e-7 for |x| <= 8192, 1e-6 for |x| <= 65536, and beyond 2^20,
// where a float32 reduction by π means little, fall back to the builtins)
fn exp_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x >= 88.72283935546875) { return inf_(); }
  if (x < -103.972084) { return 0.0; }
  let n = floor(1.44269504088896341 * x + 0.5);
  let r = (x - n * 0.693359375) + n * 2.12194440e-4;
  let p = ((((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r + 4.1665795894e-2) * r +
    1.6666665459e-1) * r + 5.0000001201e-1) * r * r + r) + 1.0;
  let k = i32(n);
  return ldexp(ldexp(p, k / 2), k - k / 2); // two steps: 2^k alone overflows at k = 128
}
fn log_(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return nan_(); }
  if (x == 0.0) { return -inf_(); }
  if (x == inf_()) { return x; }
  let f = frexp(x);
  var m = f.fract;
  var e = f32(f.exp);
  if (m < 0.70710678118654752) { e = e - 1.0; m = m + m - 1.0; } else { m = m - 1.0; }
  return (m + (log1p_poly_(m) - 2.12194440e-4 * e)) + 0.693359375 * e;
}
// log(1 + m) - m for m in [sqrt(1/2) - 1, sqrt(2) - 1]
fn log1p_poly_(m: f32) -> f32 {
  let z = m * m;
  return ((((((((7.0376836292e-2 * m - 1.1514610310e-1) * m + 1.1676998740e-1) * m - 1.2420140846e-1) * m +
    1.4249322787e-1) * m - 1.6668057665e-1) * m + 2.0000714765e-1) * m - 2.4999993993e-1) * m + 3.3333331174e-1) * m * z - 0.5 * z;
}
// x mod π/4 in three parts (exact products while x <= 8192), and the octant
struct Octant { r: f32, j: u32 }
fn octant_(ax: f32) -> Octant {
  var j = u32(ax * 1.27323954473516);
  var y = f32(j);
  if ((j & 1u) == 1u) { j = j + 1u; y = y + 1.0; }
  let r = ((ax - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  return Octant(r, j & 7u);
}
fn sin_poly_(r: f32) -> f32 {
  let z = r * r;
  return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
}
fn cos_poly_(r: f32) -> f32 {
  let z = r * r;
  return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
}
fn sin_(x: f32) -> f32 {
  if (is_nan(x) || abs(x) == inf_()) { return nan_(); }
  if (abs(x) > 1048576.0) { return sin(x); }
  let o = octant_(abs(x));
  var j = o.j;
  var s = select(1.0, -1.0, x < 0.0);
  if (j > 3u) { s = -s; j = j - 4u; }
  return s * select(sin_poly_(o.r), cos_poly_(o.r), j == 1u || j == 2u);
}
fn cos_(x: f32) -> f32 {
  if (is_nan(x) || abs(x) == inf_()) { return nan_(); }
  if (abs(x) > 1048576.0) { return cos(x); }
  let o = octant_(abs(x));
  var j = o.j;
  var s = 1.0;
  if (j > 3u) { s = -s; j = j - 4u; }
  if (j > 1u) { s = -s; }
  return s * select(cos_poly_(o.r), sin_poly_(o.r), j == 1u || j == 2u);
}
// near 0 by the polynomial of log itself: Kahan's log(u)·x/(u - 1) with u = 1 + x is not safe in a
// shader, where the compiler may simplify u - 1 to x and so undo the correction
fn log1p_(x: f32) -> f32 {
  if (is_nan(x) || x < -1.0) { return nan_(); }
  if (x >= -0.29289321881 && x <= 0.41421356237) { return x + log1p_poly_(x); }
  return log_(1.0 + x);
}
fn expm1_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (abs(x) < 1e-5) { return x + 0.5 * x * x; }
  let u = exp_(x);
  if (abs(x) >= 1.0) { return u - 1.0; }
  let um1 = u - 1.0;
  if (um1 == 0.0) { return x; }
  return um1 * x / log_(u); // Kahan: the rounding of exp(x) cancels in (u - 1) / log(u)
}
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp_(-x)); }
  let e = exp_(x);
  return e / (1.0 + e);
}
// tanh from expm1: full relative precision near 0 too (builtins round tiny arguments to 0)
fn tanh_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let t = expm1_(-2.0 * abs(x));
  let r = -t / (t + 2.0);
  return select(r, -r, x < 0.0);
}
fn sign_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  return sign(x);
}
// erf: Maclaurin series near 0 (full relative precision), Numerical Recipes' erfc fit beyond
fn erf_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let z = abs(x);
  if (z < 0.5) {
    let x2 = x * x;
    return x * 1.1283791671 * (1.0 + x2 * (-0.3333333333 + x2 * (0.1 + x2 * (-0.0238095238 + x2 * 0.0046296296))));
  }
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp_(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r - 1.0, 1.0 - r, x >= 0.0);
}
// erfinv: Giles' single-precision approximation, then one Newton step on erf
fn erfinv_(y: f32) -> f32 {
  if (is_nan(y) || abs(y) > 1.0) { return nan_(); }
  if (y == 1.0) { return inf_(); }
  if (y == -1.0) { return -inf_(); }
  var w = -log_((1.0 - y) * (1.0 + y));
  var p: f32;
  if (w < 5.0) {
    w = w - 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w; p = -3.5233877e-06 + p * w; p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w; p = -0.00125372503 + p * w; p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w; p = 1.50140941 + p * w;
  } else {
    w = sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w; p = 0.00134934322 + p * w; p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w; p = -0.0076224613 + p * w; p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w; p = 2.83297682 + p * w;
  }
  var x = p * y;
  let d = 1.1283791671 * exp_(-x * x);
  if (d > 0.0) { x = x - (erf_(x) - y) / d; }
  return x;
}
// a^b with the real-valued conventions of JS Math.pow
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_(); }
  let ab = abs(b);
  if (ab == inf_() && abs(a) == 1.0) { return nan_(); }
  let odd = floor(b) == b && ab < 16777216.0 && (i32(ab) & 1) == 1;
  if (a == 0.0 || abs(a) == inf_()) {
    // ±0 and ±∞: 0 or ∞, negative for odd integer powers of -0 and -∞
    let r = select(0.0, inf_(), (a == 0.0) == (b < 0.0));
    return select(r, -r, odd && (bitcast<u32>(a) & 0x80000000u) != 0u);
  }
  if (floor(b) == b && ab <= 32.0) {
    // small integer powers by repeated squaring: exact where the product is representable
    var r = 1.0; var base = a; var e = i32(abs(b));
    loop { if (e == 0) { break; } if ((e & 1) == 1) { r = r * base; } base = base * base; e = e >> 1u; }
    return select(r, 1.0 / r, b < 0.0);
  }
  let r = exp_(b * log_(abs(a)));
  if (a > 0.0) { return r; }
  if (floor(b) != b) { return nan_(); }
  return select(r, -r, odd);
}
// Python's a mod b: the result has the sign of b. The remainder is exact, like C's fmod: long
// division by b shifted to each power of two, where every subtraction is exact (Sterbenz)
fn mod_(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b) || abs(a) == inf_() || b == 0.0) { return nan_(); }
  let d = abs(b);
  var r = abs(a);
  if (d != inf_()) {
    for (var k = 0; k < 300 && r >= d; k = k + 1) {
      var t = ldexp(d, frexp(r).exp - frexp(d).exp);
      if (t > r) { t = t * 0.5; }
      r = r - t;
    }
  }
  r = select(r, -r, a < 0.0);
  if (r != 0.0 && ((r < 0.0) != (b < 0.0))) { return r + b; }
  return r;
}
// a float stored into an Int32Array: truncated, then wrapped modulo 2^32 (NaN and ±∞ give 0);
// WGSL's i32() saturates instead. Past 2^31 a float32 is m·2^k with k >= 8: shift the mantissa
fn f32_to_i32_(x: f32) -> i32 {
  if (is_nan(x) || abs(x) == inf_()) { return 0; }
  if (abs(x) < 2147483648.0) { return i32(trunc(x)); }
  let bits = bitcast<u32>(x);
  let k = ((bits >> 23u) & 255u) - 150u;
  if (k >= 32u) { return 0; }
  let w = ((bits & 0x7fffffu) | 0x800000u) << k;
  return bitcast<i32>(select(w, 0u - w, x < 0.0));
}
fn max_(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return a + b; } return max(a, b); }
fn min_(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return a + b; } return min(a, b); }
fn imod_(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  let r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) { return r + b; }
  return r;
}
fn ipow_(a: i32, b: i32) -> i32 {
  var r = 1; var base = a; var e = b;
  if (e < 0) { return 0; }
  loop { if (e == 0) { break; } if ((e & 1) == 1) { r = r * base; } base = base * base; e = e >> 1u; }
  return r;
}
fn upow_(a: u32, b: u32) -> u32 {
  var r = 1u; var base = a; var e = b;
  loop { if (e == 0u) { break; } if ((e & 1u) == 1u) { r = r * base; } base = base * base; e = e >> 1u; }
  return r;
}
`;

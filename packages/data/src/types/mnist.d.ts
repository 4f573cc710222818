// Types for the `mnist` package (10,000 MNIST digits as JSON, grouped by class).
declare module 'mnist' {
  interface MnistDigit {
    /** The class. */
    id: number;
    /** Number of samples of this class. */
    length: number;
    /** All samples, 784 floats each (pixel / 255 rounded to 3 decimals), concatenated. */
    raw: number[];
  }
  const mnist: Record<number, MnistDigit>;
  export default mnist;
}

/** The object with some methods replaced; the others still run on the real one (private fields work). */
export function override<T extends object>(real: T, replaced: Partial<T>): T {
  return new Proxy(real, {
    get(target, prop) {
      if (prop in replaced) return replaced[prop as keyof T];
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

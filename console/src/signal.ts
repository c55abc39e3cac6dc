// A value components re-render on: the few pieces of global state (the
// language, the signed-in user) without a state library.
import { useEffect, useState } from 'preact/hooks';

export interface Signal<T> {
  get(): T;
  set(value: T): void;
  use(): T;
}

export function signal<T>(value: T): Signal<T> {
  const listeners = new Set<(v: T) => void>();
  return {
    get: () => value,
    set(next) {
      value = next;
      for (const l of listeners) l(next);
    },
    use() {
      const [v, setV] = useState(value);
      useEffect(() => {
        listeners.add(setV);
        setV(value);
        return () => void listeners.delete(setV);
      }, []);
      return v;
    },
  };
}

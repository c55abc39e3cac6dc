import { DeadlineExceededError } from '../../common/errors/index.js';
import { CircuitBreaker, CircuitOpenError } from './circuit-breaker.js';

class Upstream extends Error {}
const isFailure = (err: unknown) => err instanceof Upstream;

function setup(threshold = 3, cooldownMs = 1000) {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: threshold, cooldownMs, now: () => now });
  let calls = 0;
  const fail = () =>
    breaker.run(() => {
      calls += 1;
      return Promise.reject(new Upstream('down'));
    }, isFailure);
  const succeed = () =>
    breaker.run(() => {
      calls += 1;
      return Promise.resolve('ok');
    }, isFailure);
  return {
    breaker,
    fail,
    succeed,
    calls: () => calls,
    advance: (ms: number) => (now += ms),
  };
}

describe('CircuitBreaker', () => {
  it('stays closed below the failure threshold', async () => {
    const b = setup(3);
    await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
    await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
    expect(b.breaker.state).toBe('closed');
    await expect(b.succeed()).resolves.toBe('ok');
  });

  it('opens after consecutive failures and then fails fast without calling', async () => {
    const b = setup(3);
    for (let i = 0; i < 3; i++) await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
    expect(b.breaker.state).toBe('open');
    const before = b.calls();
    await expect(b.succeed()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(b.calls()).toBe(before);
  });

  it('a success resets the consecutive count', async () => {
    const b = setup(3);
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    await b.succeed();
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    expect(b.breaker.state).toBe('closed');
  });

  it('errors that are not upstream failures do not count', async () => {
    const b = setup(2);
    for (let i = 0; i < 5; i++) {
      await expect(
        b.breaker.run(() => Promise.reject(new Error('bad code')), isFailure),
      ).rejects.toThrow('bad code');
    }
    expect(b.breaker.state).toBe('closed');
  });

  it('lets one trial through after the cooldown and closes on its success', async () => {
    const b = setup(1, 1000);
    await expect(b.fail()).rejects.toThrow();
    b.advance(999);
    await expect(b.succeed()).rejects.toBeInstanceOf(CircuitOpenError);
    b.advance(1);
    expect(b.breaker.state).toBe('half-open');
    await expect(b.succeed()).resolves.toBe('ok');
    expect(b.breaker.state).toBe('closed');
  });

  it('reopens when the trial fails, for another full cooldown', async () => {
    const b = setup(5, 1000);
    for (let i = 0; i < 5; i++) await expect(b.fail()).rejects.toThrow();
    b.advance(1000);
    await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
    expect(b.breaker.state).toBe('open');
    b.advance(500);
    await expect(b.succeed()).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('admits only one trial at a time while half-open', async () => {
    const b = setup(1, 10);
    await expect(b.fail()).rejects.toThrow();
    b.advance(10);
    let release!: () => void;
    const trial = b.breaker.run(
      () => new Promise<string>((resolve) => (release = () => resolve('trial'))),
      isFailure,
    );
    await expect(b.succeed()).rejects.toBeInstanceOf(CircuitOpenError);
    release();
    await expect(trial).resolves.toBe('trial');
    await expect(b.succeed()).resolves.toBe('ok');
  });

  it('a late failure of a call sent before the circuit opened does not restart the cooldown', async () => {
    const b = setup(1, 1000);
    let rejectSlow!: (err: Error) => void;
    const slow = b.breaker.run(
      () => new Promise<string>((_resolve, reject) => (rejectSlow = reject)),
      isFailure,
    );
    await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
    expect(b.breaker.state).toBe('open');
    b.advance(900);
    rejectSlow(new Upstream('late timeout'));
    await expect(slow).rejects.toBeInstanceOf(Upstream);
    b.advance(100);
    expect(b.breaker.state).toBe('half-open');
  });

  it('a late success of a call sent before the circuit opened does not close it', async () => {
    const b = setup(1, 1000);
    let resolveSlow!: (value: string) => void;
    const slow = b.breaker.run(
      () => new Promise<string>((resolve) => (resolveSlow = resolve)),
      isFailure,
    );
    await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
    resolveSlow('late');
    await expect(slow).resolves.toBe('late');
    expect(b.breaker.state).toBe('open');
  });
  describe('a call cut short by the request budget', () => {
    const outOfBudget = (b: ReturnType<typeof setup>) =>
      b.breaker.run(
        () => Promise.reject(new DeadlineExceededError()),
        () => true,
      );

    it('is no failure: it neither opens the circuit nor adds to the count', async () => {
      const b = setup(3);
      await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
      await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
      for (let i = 0; i < 5; i++) {
        await expect(outOfBudget(b)).rejects.toBeInstanceOf(DeadlineExceededError);
      }
      expect(b.breaker.state).toBe('closed');
      // Two failures are still counted: a third opens the circuit.
      await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
      expect(b.breaker.state).toBe('open');
    });

    it('is no success either: a half-open trial cut short leaves the circuit half-open', async () => {
      const b = setup(1, 1000);
      await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
      b.advance(1000);
      await expect(outOfBudget(b)).rejects.toBeInstanceOf(DeadlineExceededError);
      expect(b.breaker.state).toBe('half-open');
      await expect(b.fail()).rejects.toBeInstanceOf(Upstream);
      expect(b.breaker.state).toBe('open');
    });
  });
});

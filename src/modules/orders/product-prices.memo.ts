/** A product's name and price as an order copies them. */
export interface PricedProduct {
  name: string;
  priceCents: number;
}

/** Past this many products the memo starts again empty (it is only a hint). */
const MAX_PRODUCTS = 10_000;

/**
 * The name and price each product had when this replica last read it for
 * an order, so that the next order of it can skip that read. Only a hint:
 * the stock UPDATE of such an order also requires the same name and price
 * (`ProductStock.takeAsPriced`), and when they changed the order is priced
 * again from the database. Never invalidated, therefore: a stale entry costs
 * one refused attempt and is then replaced.
 */
export class ProductPricesMemo {
  private readonly byId = new Map<number, PricedProduct>();

  /** Every product's remembered name and price, or undefined when one is not known. */
  lookup(productIds: readonly number[]): PricedProduct[] | undefined {
    const out: PricedProduct[] = [];
    for (const id of productIds) {
      const known = this.byId.get(id);
      if (!known) return undefined;
      out.push(known);
    }
    return out;
  }

  remember(productId: number, product: PricedProduct): void {
    if (this.byId.size >= MAX_PRODUCTS && !this.byId.has(productId)) this.byId.clear();
    this.byId.set(productId, product);
  }

  forget(productIds: readonly number[]): void {
    for (const id of productIds) this.byId.delete(id);
  }
}

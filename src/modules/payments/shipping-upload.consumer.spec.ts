import { itemDescription } from './shipping-upload.consumer.js';

describe('itemDescription (upload_shipping_info item_desc)', () => {
  it('joins the item names', () => {
    expect(itemDescription(['普洱茶', 'Oolong 100g'])).toBe('普洱茶、Oolong 100g');
  });

  it('cuts to 120 characters, counting code points (no half emoji), with an ellipsis', () => {
    const desc = itemDescription(['茶'.repeat(100), '🍵'.repeat(50)]);
    const chars = Array.from(desc);
    expect(chars).toHaveLength(120);
    expect(chars.at(-1)).toBe('…');
    expect(chars.at(-2)).toBe('🍵');
    expect(itemDescription(['茶'.repeat(120)])).toBe('茶'.repeat(120));
  });
});

import { csvCell, csvLine } from './orders-csv.js';
import { maskPhone } from './staff-user.view.js';

describe('csvCell', () => {
  it.each([
    ['plain', 'plain'],
    ['乌龙茶', '乌龙茶'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=1+2', `"'=1+2"`],
    ['+8613800138000', `"'+8613800138000"`],
    ['-5', `"'-5"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\tx', `"'\tx"`],
    ['\rx', `"'\rx"`],
    ['=HYPERLINK("u")', `"'=HYPERLINK(""u"")"`],
    ['a=b', 'a=b'],
    ['', ''],
  ])('writes %j as %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('writes numbers as they are and null as an empty cell', () => {
    expect(csvCell(-42)).toBe('-42');
    expect(csvCell(null)).toBe('');
    expect(csvLine([1, null, 'x,y'])).toBe('1,,"x,y"\r\n');
  });
});

describe('maskPhone', () => {
  it.each([
    ['13800138000', '*******8000'],
    ['+8613800138000', '**********8000'],
    ['010-12345678', '********5678'],
    ['123456', '****56'], // at least 4 characters stay hidden
    ['1234', '****'],
    ['', ''],
  ])('masks %j as %j', (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
  });
});

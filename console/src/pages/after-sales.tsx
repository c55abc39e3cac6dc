// The after-sales queue: placeholder until the after-sales routes land.
import { t } from '../i18n';
import { Section } from '../ui';

export function AfterSalesPage() {
  return (
    <Section title={t('afterSales')}>
      <p class="muted">{t('empty')}</p>
    </Section>
  );
}

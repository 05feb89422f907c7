// What the mapping is resolved against in Kommo: pipelines and fields. The same reads as the relay's
// start-up (startup/mapping-state.ts), here for `check` (only what the mapping needs) and `discover` (all).
import type { KommoCatalogue } from '../config/resolve-mapping.js';
import type { KommoClient } from '../kommo/client.js';

export interface FullCatalogue extends KommoCatalogue {
  productsCatalog?: { id: number; name: string };
}

export async function readKommoCatalogue(kommo: KommoClient, needs: { contact: boolean; company: boolean; products: boolean }): Promise<FullCatalogue> {
  const pipelines = await kommo.getPipelines();
  const leadFields = await kommo.getCustomFields('leads');
  const contactFields = needs.contact ? await kommo.getCustomFields('contacts') : undefined;
  const companyFields = needs.company ? await kommo.getCustomFields('companies') : undefined;
  const productsCatalog = needs.products ? (await kommo.catalogs()).find((c) => c.type === 'products') : undefined;
  const productFields = productsCatalog ? await kommo.catalogFields(productsCatalog.id) : undefined;
  return {
    pipelines,
    leadFields,
    ...(contactFields ? { contactFields } : {}),
    ...(companyFields ? { companyFields } : {}),
    ...(productFields ? { productFields } : {}),
    ...(productsCatalog ? { productsCatalog: { id: productsCatalog.id, name: productsCatalog.name } } : {}),
  };
}

// The parts of Kommo API v4 responses the relay reads (developers.kommo.com; see shared/reference/kommo.md).

export interface KommoFieldValue {
  value?: string | number | boolean | null;
  enum_id?: number | null;
  enum_code?: string | null;
}

export interface KommoCustomFieldValue {
  field_id: number;
  field_name?: string;
  field_code?: string | null;
  field_type?: string;
  values: KommoFieldValue[];
}

export interface KommoLead {
  id: number;
  name: string;
  price: number | null;
  status_id: number;
  pipeline_id: number;
  updated_at?: number;
  account_id?: number;
  custom_fields_values: KommoCustomFieldValue[] | null;
  _embedded?: {
    contacts?: Array<{ id: number; is_main?: boolean }>;
    companies?: Array<{ id: number }>;
    catalog_elements?: Array<{ id: number; metadata?: { quantity?: number; catalog_id?: number; price_id?: number } }>;
    tags?: Array<{ id: number; name: string }>;
  };
}

export interface KommoContact {
  id: number;
  name: string;
  first_name?: string;
  last_name?: string;
  custom_fields_values: KommoCustomFieldValue[] | null;
  _embedded?: { companies?: Array<{ id: number }> };
}

export interface KommoCompany {
  id: number;
  name: string;
  custom_fields_values: KommoCustomFieldValue[] | null;
}

export interface KommoStatus {
  id: number;
  name: string;
  pipeline_id: number;
}

export interface KommoPipeline {
  id: number;
  name: string;
  _embedded: { statuses: KommoStatus[] };
}

export interface KommoFieldDefinition {
  id: number;
  name: string;
  code?: string | null;
  type: string;
  enums?: Array<{ id: number; value: string }> | null;
}

export interface KommoAccount {
  id: number;
  name?: string;
  subdomain: string;
  country?: string;
  currency?: string;
}

/** PATCH /leads/{id} custom field value: text-like fields take `value`, select fields `enum_id`. */
export interface KommoFieldWrite {
  field_id: number;
  values: Array<{ value: string | number | boolean } | { enum_id: number }>;
}

export interface KommoCatalogElement {
  id: number;
  name: string;
  catalog_id?: number;
  custom_fields_values: KommoCustomFieldValue[] | null;
}

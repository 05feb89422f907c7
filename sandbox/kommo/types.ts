// Plain data kept by the fake Kommo. Entities are stored in camelCase and rendered to Kommo's snake_case JSON
// by render.ts, so tests can read `state` without knowing the wire format.

export type FieldType =
  | 'text'
  | 'textarea'
  | 'numeric'
  | 'date'
  | 'date_time'
  | 'birthday'
  | 'url'
  | 'select'
  | 'radiobutton'
  | 'multiselect'
  | 'multitext'
  | 'checkbox'
  | 'price';

/** Types a seeding call may create (multitext is reserved for the built-in EMAIL / PHONE fields). */
export type SeedFieldType = 'text' | 'textarea' | 'numeric' | 'date' | 'date_time' | 'url' | 'select' | 'radiobutton' | 'multiselect' | 'checkbox' | 'price';

export type FieldEntity = 'leads' | 'contacts' | 'companies' | 'catalogs';

export interface FieldEnum {
  id: number;
  value: string;
  sort: number;
}

export interface CustomFieldDef {
  id: number;
  name: string;
  code: string | null;
  type: FieldType;
  sort: number;
  enums: FieldEnum[] | null;
  entity: FieldEntity;
  /** Only for catalog fields. */
  catalogId?: number;
}

/** One stored value; `value` already has the type Kommo returns (numbers as numbers, dates as unix seconds). */
export interface StoredValue {
  value: string | number | boolean;
  enumId?: number;
  enumCode?: string | null;
}

export interface FieldValues {
  fieldId: number;
  values: StoredValue[];
}

export interface Status {
  id: number;
  name: string;
  sort: number;
  pipelineId: number;
  color: string;
  /** 0 = regular, 1 = "incoming leads"; 142/143 are regular too. */
  type: 0 | 1;
}

export interface Pipeline {
  id: number;
  name: string;
  sort: number;
  isMain: boolean;
  statuses: Status[];
}

export interface Tag {
  id: number;
  name: string;
}

export interface Lead {
  id: number;
  name: string;
  price: number;
  statusId: number;
  pipelineId: number;
  responsibleUserId: number;
  createdBy: number;
  updatedBy: number;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  customFields: FieldValues[];
  tagIds: number[];
  contacts: Array<{ id: number; isMain: boolean }>;
  companyId: number | null;
  products: Array<{ id: number; quantity: number }>;
  deleted: boolean;
}

export interface Contact {
  id: number;
  name: string;
  firstName: string;
  lastName: string;
  responsibleUserId: number;
  createdAt: number;
  updatedAt: number;
  customFields: FieldValues[];
  companyId: number | null;
  tagIds: number[];
}

export interface Company {
  id: number;
  name: string;
  responsibleUserId: number;
  createdAt: number;
  updatedAt: number;
  customFields: FieldValues[];
  tagIds: number[];
}

export interface Catalog {
  id: number;
  name: string;
  type: 'products' | 'regular';
  sort: number;
  createdAt: number;
  updatedAt: number;
}

export interface CatalogElement {
  id: number;
  catalogId: number;
  name: string;
  createdAt: number;
  updatedAt: number;
  customFields: FieldValues[];
}

export interface Note {
  id: number;
  entityId: number;
  entityType: 'leads';
  noteType: string;
  params: Record<string, unknown>;
  createdBy: number;
  responsibleUserId: number;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookSub {
  id: number;
  destination: string;
  settings: string[];
  sort: number;
  createdAt: number;
  updatedAt: number;
  disabled: boolean;
  /** Times (ms) of failed deliveries; Kommo disables a hook after >100 failures within 2 hours. */
  failures: number[];
}

export interface Account {
  id: number;
  name: string;
  subdomain: string;
  country: string;
  currency: string;
  currencySymbol: string;
  createdAt: number;
  userId: number;
}

/** Validation problem in Kommo's shape: `validation-errors[].errors[]`. */
export interface FieldError {
  code: string;
  path: string;
  detail: string;
}

/** Thrown by the store when a request is invalid; routes turn it into a 400 with validation-errors. */
export class ValidationFailure extends Error {
  constructor(public readonly groups: Array<{ request_id: string; errors: FieldError[] }>) {
    super(groups.flatMap((g) => g.errors.map((e) => `${e.path}: ${e.detail}`)).join('; '));
  }
}

/** Thrown when an entity addressed by the request does not exist (404 on PATCH). */
export class NotFound extends Error {}

/**
 * Views, bodies and codes of the backend, read from the generated contract
 * (api-types.ts): when the backend changes a route the SDK calls, the SDK
 * stops typechecking instead of drifting.
 */
import type { components, operations, paths } from './api-types.js';

type Schemas = components['schemas'];
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : never;
type SuccessOf<R> = JsonOf<R[Extract<keyof R, 200 | 201 | 202>]>;

/** `data` of the success envelope of `M P`. */
export type Data<P extends keyof paths, M extends Method> =
  SuccessOf<Operation<P, M>['responses']> extends { data: infer D } ? D : never;

/** The JSON body `M P` takes. */
export type Body<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;

type CodeOf<J> = unknown extends J ? never : J extends { code: infer C extends number } ? C : never;
type CodesOf<O> = O extends { responses: infer R }
  ? { [S in keyof R]: CodeOf<JsonOf<R[S]>> }[keyof R]
  : never;

/** Every business code the contract lists for an error (40000, 40101, 40910, ...). */
export type ErrorCode = Exclude<CodesOf<operations[keyof operations]>, 0>;

export type LoginResult = Data<'/api/v1/auth/login', 'post'>;
export type TokenPair = Data<'/api/v1/auth/refresh', 'post'>;
export type User = Data<'/api/v1/users/me', 'get'>;
export type ProfileUpdate = Body<'/api/v1/users/me', 'put'>;
export type Product = Schemas['ProductView'];
export type ProductPage = Data<'/api/v1/products', 'get'>;
export type Order = Schemas['OrderView'];
/** One order as `order(id)` returns it: with its packages once shipped. */
export type OrderDetail = Schemas['OrderDetailView'];
export type OrderPage = Data<'/api/v1/orders', 'get'>;
export type NewOrder = Body<'/api/v1/orders', 'post'>;
export type PaymentParams = Data<'/api/v1/orders/{id}/payment', 'post'>;
export type Address = Schemas['AddressView'];
export type AddressList = Data<'/api/v1/users/me/addresses', 'get'>;
export type NewAddress = Body<'/api/v1/users/me/addresses', 'post'>;
export type DeletedAddress = Data<'/api/v1/users/me/addresses/{id}', 'delete'>;
export type OrderAddress = Body<'/api/v1/orders/{id}/address', 'put'>;
export type SubscriptionList = Data<'/api/v1/users/me/subscriptions', 'post'>;
export type FlashSale = Data<'/api/v1/flash-sales/{id}', 'get'>;
export type FlashAdmission = Data<'/api/v1/flash-sales/{id}/orders', 'post'>;
export type FlashTicket = Data<'/api/v1/flash-sales/tickets/{ticket}', 'get'>;
export type AfterSales = Schemas['AfterSalesView'];
export type AfterSalesList = Data<'/api/v1/orders/{id}/after-sales', 'get'>;
export type NewAfterSales = Body<'/api/v1/orders/{id}/after-sales', 'post'>;
export type ReturnShipment = Body<'/api/v1/after-sales/{id}/return-shipment', 'post'>;
export type FieldError = Schemas['FieldError'];

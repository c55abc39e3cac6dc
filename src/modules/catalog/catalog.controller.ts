import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiAnswer,
  Compressed,
  DEFAULT_PAGE_SIZE,
  Lean,
  parseId,
} from '../../common/http/index.js';
import { CatalogService } from './catalog.service.js';
import { ListProductsQuery } from './product.dto.js';
import { productPage, productView, type ProductPage, type ProductView } from './product.view.js';

@ApiTags('catalog')
@Controller('products')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  /** A page of products by id; `nextCursor` is null on the last page. */
  @ApiOperation({ summary: 'List products' })
  @Get()
  @Compressed()
  @ApiAnswer(productPage)
  list(@Query() query: ListProductsQuery): Promise<ProductPage> {
    return this.catalog.listProducts(query.cursor, query.limit ?? DEFAULT_PAGE_SIZE);
  }

  @ApiOperation({ summary: 'Get a product' })
  @Get(':id')
  @Lean()
  @ApiAnswer(productView)
  get(@Param('id') id: string): Promise<ProductView> {
    return this.catalog.getProduct(parseId(id, 'product'));
  }
}

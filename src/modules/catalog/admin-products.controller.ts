import { Body, Controller, Delete, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../../common/auth/index.js';
import { CatalogService } from './catalog.service.js';
import { ApiAnswer, parseId } from '../../common/http/index.js';
import { CreateProductDto, UpdateProductDto } from './product.dto.js';
import {
  deletedProduct,
  productView,
  type DeletedProduct,
  type ProductView,
} from './product.view.js';

@ApiTags('catalog admin')
@Controller('admin/products')
export class AdminProductsController {
  constructor(private readonly catalog: CatalogService) {}

  @ApiOperation({ summary: 'Create a product' })
  @Post()
  @Roles('operator', 'admin')
  @ApiAnswer(productView, { status: 201 })
  create(@CurrentUser() staff: AuthUser, @Body() body: CreateProductDto): Promise<ProductView> {
    return this.catalog.createProduct(staff.userId, body);
  }

  /** Every replica serves the new value within 1 s. */
  @ApiOperation({ summary: 'Update a product' })
  @Patch(':id')
  @Roles('operator', 'admin')
  @ApiAnswer(productView)
  update(
    @CurrentUser() staff: AuthUser,
    @Param('id') id: string,
    @Body() body: UpdateProductDto,
  ): Promise<ProductView> {
    return this.catalog.updateProduct(staff.userId, parseId(id, 'product'), body);
  }

  /** Soft delete: the row stays for past orders, the product disappears from the catalog. */
  @ApiOperation({ summary: 'Soft-delete a product' })
  @Delete(':id')
  @Roles('operator', 'admin')
  @HttpCode(200)
  @ApiAnswer(deletedProduct)
  async remove(@CurrentUser() staff: AuthUser, @Param('id') id: string): Promise<DeletedProduct> {
    const productId = parseId(id, 'product');
    await this.catalog.deleteProduct(staff.userId, productId);
    return { id: productId, deleted: true };
  }
}

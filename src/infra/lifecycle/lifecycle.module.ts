import { Global, Module } from '@nestjs/common';
import { ProxyDrainHook } from './proxy-drain.hook.js';
import { ShutdownState } from './shutdown-state.js';

@Global()
@Module({ providers: [ShutdownState, ProxyDrainHook], exports: [ShutdownState] })
export class LifecycleModule {}

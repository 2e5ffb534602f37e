import 'reflect-metadata';
import { captureLogs } from './log-capture';

process.env.NODE_ENV = 'test';
captureLogs();

#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib';
import { loadAppConfig } from '../lib/config/load-app-config';

// the only place that reads context and the environment; everything below receives validated config.
const app = new cdk.App();
const config = loadAppConfig(app.node.getAllContext());
void config;
app.synth();

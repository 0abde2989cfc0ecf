import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NOTICE_MS, useUiStore } from './ui-store';

const store = () => useUiStore.getState();

describe('notices and the Jobs filter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    useUiStore.setState({ screen: 'make', notice: undefined, leaveGuard: undefined });
  });
  afterEach(() => vi.useRealTimers());

  it('shows all jobs when the app brings someone to the Jobs screen after adding jobs', () => {
    store().setJobFilter('failed');
    store().setJobSearch('old');
    store().go('jobs', 'Job added: web-h264.');
    expect(store()).toMatchObject({ screen: 'jobs', jobFilter: 'all', jobSearch: '' });
  });

  it('keeps the filter when someone simply opens the Jobs screen', () => {
    store().setJobFilter('failed');
    store().go('jobs');
    expect(store().jobFilter).toBe('failed');
  });

  it('closes a notice by itself after a few seconds, not sooner', () => {
    store().go('jobs', 'Job added: web-h264.');
    vi.advanceTimersByTime(NOTICE_MS - 100);
    expect(store().notice).toBe('Job added: web-h264.');
    vi.advanceTimersByTime(200);
    expect(store().notice).toBeUndefined();
  });

  it('gives a newer notice its own time', () => {
    store().go('jobs', 'first');
    vi.advanceTimersByTime(NOTICE_MS - 1000);
    store().go('jobs', 'second');
    vi.advanceTimersByTime(2000);
    expect(store().notice).toBe('second');
  });

  it('leaves a guard on screen until the reason for it goes', () => {
    store().setLeaveGuard('Store the recovery key first.');
    store().go('library');
    expect(store().notice).toBe('Store the recovery key first.');
    vi.advanceTimersByTime(NOTICE_MS * 3);
    expect(store().notice).toBe('Store the recovery key first.');
  });
});

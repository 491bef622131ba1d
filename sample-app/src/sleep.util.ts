/** Stands in for real work (building a report, calling a card network). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
